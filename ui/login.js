// The login view: the hosted login page a person opens to finish a login the agent started, and the flow's state
// as it moves, read from the flow's events until it ends.
const STEPS = ['DISCOVERING', 'AWAITING_INPUT', 'SUBMITTING', 'COMPLETED'];
const login = { id: undefined, url: undefined, after: undefined, ended: false };

function setStatus(text) {
  el('status').textContent = text;
}

function render(state) {
  el('connection').textContent = login.id;
  const status = state.flow_status || 'unknown';
  el('state').textContent = status;
  el('state').className = `chip ${status === 'SUCCESS' ? 'ok' : status === 'IN_PROGRESS' ? '' : 'bad'}`;
  el('domain').textContent = state.domain ? `${state.domain} · profile ${state.profile_name || ''}` : '';
  const step = state.flow_step;
  el('steps').replaceChildren(
    ...STEPS.map((s) =>
      Object.assign(document.createElement('span'), { className: `chip${s === step ? ' now' : ''}`, textContent: s }),
    ),
  );
  if (state.hosted_url) login.url = state.hosted_url;
  el('open').disabled = !login.url || login.ended;
}

const TERMINAL = ['SUCCESS', 'FAILED', 'EXPIRED', 'CANCELED', 'CANCELLED'];

/** Follows the flow's events (waiting up to 20 s a call), then reads the connection for its state. */
async function follow() {
  while (login.id && !login.ended) {
    const events = await Host.callTool('auth_connections_follow', {
      id: login.id,
      max_seconds: 20,
      ...(login.after ? { after: login.after } : {}),
    });
    const page = events.isError ? {} : resultData(events) || {};
    login.after = page.cursor || login.after;
    const connection = await Host.callTool('auth_connections_retrieve', { id: login.id });
    if (connection.isError) {
      setStatus(resultText(connection));
      return;
    }
    const state = resultData(connection) || {};
    const status = String(state.flow_status || '');
    login.ended = Boolean(page.ended) || TERMINAL.includes(status) || (status !== '' && status !== 'IN_PROGRESS');
    render(state);
    setStatus(
      login.ended
        ? `The login ${status === 'SUCCESS' ? 'is complete' : 'has ended'}.`
        : 'Waiting for the login to move on…',
    );
    if (events.isError && !login.ended) await new Promise((r) => setTimeout(r, 2000));
  }
}

function start(id, data) {
  if (!id || id === login.id) return;
  login.id = id;
  if (data) render(data);
  follow().catch((err) => setStatus(String(err.message || err)));
}

el('open').addEventListener('click', () => login.url && Host.openLink(login.url));
Host.on('ui/notifications/tool-input', (params) => start(params.arguments && params.arguments.id));
Host.on('ui/notifications/tool-result', (result) => {
  const data = resultData(result) || {};
  if (data.hosted_url) login.url = data.hosted_url;
  start(data.id, data);
});
Host.connect('kernel-login-view').catch((err) => setStatus(`Could not reach the host: ${err.message}`));
