'use strict';
// Loaded with `node --require` (NODE_OPTIONS) inside the distrust sandbox.
//
// Why: Node 20's built-in fetch and its http/https modules ignore HTTPS_PROXY. Inside the
// sandbox the only way out is the egress proxy, so a server that ignores the proxy simply
// fails. That is safe, but it also breaks honest servers. This file points fetch (undici's
// global dispatcher) and http/https (their global agents) at the proxy named in the
// environment, so unmodified servers work and every request passes the egress inspectors.
//
// The two libraries are loaded from this preload's OWN node_modules (mounted beside it),
// never from the server's: a malicious package must not be able to ship a fake `undici`
// that the preload would then trust.
//
// If anything here fails, the server still starts (a warning goes to stderr, never stdout,
// which carries MCP JSON-RPC). The network namespace keeps failing closed either way.

const path = require('path');

function ownModule(name) {
  return require(path.join(__dirname, 'node_modules', name));
}

// EnvHttpProxyAgent prints an "experimental" warning on every start; it would land in the
// server's stderr (the user's MCP log) and say nothing useful. Silence just that one code.
function quietly(code, build) {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    const options = rest[0];
    const warningCode = options && typeof options === 'object' ? options.code : rest[1];
    if (warningCode === code) {
      return undefined;
    }
    return emitWarning.call(process, warning, ...rest);
  };
  try {
    return build();
  } finally {
    process.emitWarning = emitWarning;
  }
}

function install() {
  const proxy = process.env.HTTPS_PROXY || process.env.https_proxy || process.env.HTTP_PROXY || process.env.http_proxy;
  if (!proxy) {
    return;
  }
  // The whole package, not its inner files: index.js attaches the request API (connect,
  // request...) to every dispatcher, which ProxyAgent needs. It costs ~50-100 ms per start.
  const undici = ownModule('undici');
  undici.setGlobalDispatcher(quietly('UNDICI-EHPA', () => new undici.EnvHttpProxyAgent()));

  const { HttpsProxyAgent } = ownModule('https-proxy-agent');
  const http = require('http');
  const https = require('https');
  // One agent per scheme: the agent tunnels with CONNECT and, for https URLs, starts TLS
  // inside the tunnel with the right SNI (global-agent gets SNI wrong on Node 20).
  https.globalAgent = new HttpsProxyAgent(proxy, { keepAlive: true });
  http.globalAgent = new HttpsProxyAgent(process.env.HTTP_PROXY || process.env.http_proxy || proxy, {
    keepAlive: true,
  });
}

try {
  install();
} catch (err) {
  process.stderr.write(`distrust: node proxy preload failed, network calls will fail closed: ${err && err.message}\n`);
}
