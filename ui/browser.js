// The browser view: the session's live view (or its latest screenshot), its state and page, and three buttons.
const view = { id: undefined, liveUrl: undefined, deleted: false, shownLive: false };

function setStatus(text) {
  el('status').textContent = text;
}

function age(createdAt) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(createdAt)) / 1000));
  return s < 60 ? `${s}s old` : s < 3600 ? `${Math.round(s / 60)} min old` : `${(s / 3600).toFixed(1)} h old`;
}

function showImage(image) {
  const img = document.createElement('img');
  img.alt = 'Screenshot of the browser';
  img.src = `data:${image.mimeType};base64,${image.data}`;
  el('screen').replaceChildren(img);
  view.shownLive = false;
}

function showLive(url) {
  if (view.shownLive) return;
  const frame = document.createElement('iframe');
  frame.title = 'Live view of the browser';
  frame.src = url;
  frame.referrerPolicy = 'no-referrer';
  el('screen').replaceChildren(frame);
  view.shownLive = true;
}

function render(state) {
  const s = state.session || {};
  el('session').textContent = view.id;
  el('state').textContent = state.state || 'unknown';
  el('state').className = `chip ${state.state === 'running' ? 'ok' : 'bad'}`;
  el('age').textContent = s.created_at ? age(s.created_at) : '';
  el('title').textContent = (state.page && state.page.title) || '';
  el('url').textContent = (state.page && state.page.url) || '';
  const errors = state.console_errors || [];
  el('console').hidden = errors.length === 0;
  el('errors').replaceChildren(
    ...errors.map((e) => {
      const li = document.createElement('li');
      li.textContent = e;
      return li;
    }),
  );
  view.liveUrl = s.browser_live_view_url;
  el('open').disabled = !view.liveUrl || view.deleted;
  el('refresh').disabled = view.deleted;
  el('delete').disabled = view.deleted;
}

/** What the view shows, read with the same tools the model has; a tool the server does not list only hides its part. */
async function readState() {
  const session = await Host.callTool('browsers_retrieve', { id: view.id });
  if (session.isError) {
    const gone = /404|not found/i.test(resultText(session));
    return { state: gone ? 'deleted' : 'unknown', note: gone ? 'The session has ended.' : resultText(session) };
  }
  const s = resultData(session) || {};
  const state = { session: s, state: s.deleted_at ? 'deleted' : 'running' };
  if (state.state !== 'running') return state;
  const page = await Host.callTool('browsers_playwright_execute', {
    id: view.id,
    code: 'return { url: page.url(), title: await page.title() };',
  }).catch(() => undefined);
  const value = page && !page.isError ? (resultData(page) || {}).result : undefined;
  if (value && typeof value === 'object') state.page = value;
  if (s.telemetry) {
    const events = await Host.callTool('browsers_telemetry_stream', {
      id: view.id,
      max_seconds: 0,
      max_events: 500,
    }).catch(() => undefined);
    const list = (events && !events.isError && (resultData(events) || {}).events) || [];
    state.console_errors = list
      .map((e) => e.data || {})
      .filter((d) => String(d.type || '').startsWith('console') && d.data && d.data.level === 'error')
      .slice(-5)
      .map((d) => String(d.data.text || ''));
  }
  return state;
}

async function screenshot() {
  const shot = await Host.callTool('browsers_computer_capture_screenshot', { id: view.id });
  const image = shot.isError ? undefined : (shot.content || []).find((c) => c.type === 'image');
  if (image) showImage(image);
  else setStatus(shot.isError ? resultText(shot) : 'No screenshot came back.');
  return Boolean(image);
}

async function load(withScreenshot) {
  if (!view.id) return;
  setStatus(withScreenshot ? 'Taking a screenshot…' : 'Loading the session…');
  const state = await readState();
  render(state);
  setStatus(state.note || '');
  if (state.state !== 'running') return;
  if (withScreenshot || !view.liveUrl) {
    if (await screenshot()) setStatus('');
  } else showLive(view.liveUrl);
}

function start(id) {
  if (!id || id === view.id) return;
  view.id = id;
  load(false).catch((err) => setStatus(String(err.message || err)));
}

el('refresh').addEventListener('click', () => load(true).catch((err) => setStatus(String(err.message || err))));
el('open').addEventListener('click', () => view.liveUrl && Host.openLink(view.liveUrl));
el('delete').addEventListener('click', async () => {
  el('delete').disabled = true;
  setStatus('Deleting the session…');
  const result = await Host.callTool('browsers_delete', { id: view.id });
  if (result.isError) {
    el('delete').disabled = false;
    setStatus(resultText(result));
    return;
  }
  view.deleted = true;
  el('state').textContent = 'deleted';
  el('state').className = 'chip bad';
  el('screen').replaceChildren(
    Object.assign(document.createElement('span'), { className: 'muted', textContent: 'Session deleted' }),
  );
  el('open').disabled = true;
  el('refresh').disabled = true;
  setStatus('Session deleted.');
});

Host.on('ui/notifications/tool-input', (params) => start(params.arguments && params.arguments.id));
Host.on('ui/notifications/tool-result', (result) => {
  const data = resultData(result) || {};
  start(data.session_id);
  const image = (result.content || []).find((c) => c.type === 'image');
  if (image) showImage(image);
});
Host.connect('kernel-browser-view').catch((err) => setStatus(`Could not reach the host: ${err.message}`));
