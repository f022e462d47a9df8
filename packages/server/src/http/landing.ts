/** The page at `/` until the web UI lands: how to connect, with the URLs of this server. */
export function landingPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>roomcast</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
code,pre{background:#f1f3f7;border-radius:4px;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}</style></head>
<body><h1>roomcast is running</h1>
<p>Connect a WebSocket client to <code id="ws">ws://HOST/ws?name=Alice</code> and send JSON frames.
With <a href="https://www.npmjs.com/package/wscat">wscat</a>:</p>
<pre>npx wscat -c "ws://HOST/ws?name=Alice"
&gt; {"op":"create","ref":1,"room":"lobby","title":"Lobby"}
&gt; {"op":"send","ref":2,"room":"lobby","text":"hello"}</pre>
<p>In a second terminal: <code>npx wscat -c "ws://HOST/ws?name=Bob"</code>, then
<code>{"op":"join","ref":1,"room":"lobby"}</code>.</p>
<p>The protocol is described in <code>docs/protocol.md</code>.
Health: <a href="/healthz">/healthz</a> · Stats: <a href="/api/stats">/api/stats</a> · Metrics: <a href="/metrics">/metrics</a></p>
<script>for(const el of document.querySelectorAll('code,pre'))el.textContent=el.textContent.replaceAll('ws://HOST',(location.protocol==='https:'?'wss://':'ws://')+location.host);</script>
</body></html>
`;
}
