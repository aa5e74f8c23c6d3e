// The view side of MCP Apps (io.modelcontextprotocol/ui): JSON-RPC 2.0 with the host over postMessage.
// Hand-written on purpose: the SDK's App class bundles to ~650 KB with its dependencies, and a view must stay
// under 100 KB. It speaks only what the views use: ui/initialize, tool input and results, tools/call, open-link.
const Host = (() => {
  let nextId = 1;
  const pending = new Map();
  const handlers = {};
  const post = (message) => window.parent.postMessage({ jsonrpc: '2.0', ...message }, '*');
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent) return;
    const m = event.data;
    if (!m || m.jsonrpc !== '2.0') return;
    if (m.id !== undefined && !m.method) {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error.message || 'request failed'));
      else p.resolve(m.result);
      return;
    }
    const handler = handlers[m.method];
    if (m.id !== undefined) {
      // A request from the host (e.g. ui/resource-teardown): answer it.
      Promise.resolve(handler ? handler(m.params || {}) : {}).then(
        (result) => post({ id: m.id, result: result || {} }),
        (err) => post({ id: m.id, error: { code: -32603, message: String(err && err.message) } }),
      );
    } else if (handler) handler(m.params || {});
  });
  const request = (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      post({ id, method, params: params || {} });
    });
  const notify = (method, params) => post({ method, params: params || {} });
  return {
    on(method, fn) {
      handlers[method] = fn;
    },
    async connect(name) {
      const result = await request('ui/initialize', {
        appInfo: { name, version: '1.0.0' },
        appCapabilities: {},
        protocolVersion: '2026-01-26',
      });
      notify('ui/notifications/initialized', {});
      const report = () => notify('ui/notifications/size-changed', { height: document.documentElement.scrollHeight });
      new ResizeObserver(report).observe(document.body);
      return result;
    },
    callTool(name, args) {
      return request('tools/call', { name, arguments: args || {} });
    },
    openLink(url) {
      return request('ui/open-link', { url });
    },
  };
})();

/** The structured answer of a tool result, or its text parsed as JSON. */
function resultData(result) {
  if (!result) return undefined;
  if (result.structuredContent) return result.structuredContent;
  const text = (result.content || []).find((c) => c.type === 'text');
  try {
    return text ? JSON.parse(text.text) : undefined;
  } catch {
    return undefined;
  }
}

function resultText(result) {
  const text = (result && result.content ? result.content : []).find((c) => c.type === 'text');
  return text ? text.text : '';
}

function el(id) {
  return document.getElementById(id);
}
