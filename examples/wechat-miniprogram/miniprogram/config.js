// Where this mini program finds your roomcast server: its https:// origin (the SDK adds /ws and
// turns https into wss). In production this must be https with a valid certificate, and the
// domain must be in the mini program's legal domains (see the README). For a local server in
// WeChat DevTools, use http://127.0.0.1:8080 and tick "Does not verify legal domains…".
module.exports = {
  server: 'http://127.0.0.1:8080',
};
