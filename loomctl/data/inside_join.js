// inside_join.js: `loomctl drill join --from-inside`, run in a replica by `node -e` (the image's own gun).
// params (argv[2], base64 JSON): peers (relay URLs), prefix, values (one per probe node), timeout (s).
// Writes the probe nodes through one GUN peer, then starts a fresh GUN peer (a second node process: nothing shared)
// dialling the same relays and reads every probe node through it until each holds its value.
// Prints one line: LOOMJOIN {json}.
const p = JSON.parse(Buffer.from(process.argv[2], 'base64').toString('utf8'));
const out = (o) => { console.log('LOOMJOIN ' + JSON.stringify(o)); process.exit(0); };
let Gun;
try {
  Gun = require(require.resolve('gun', { paths: [process.cwd(), '/app', '/usr/src/app', '/home/node/app', '/opt/app'] }));
} catch (e) { out({ error: 'nogun' }); }
const opt = () => ({ peers: p.peers.slice(), radisk: false, localStorage: false, multicast: false, stats: false,
                     axe: false, file: false });
const souls = p.values.map((v, i) => p.prefix + '/' + i);
const start = Date.now();
setTimeout(() => out({ error: 'timeout', stage: stage }), p.timeout * 1000 + 3000).unref();
var stage = 'write';
function write() {
const w = Gun(opt());
const acked = new Set();
souls.forEach((soul, i) => w.get(soul).put({ i: i, v: p.values[i] }, (ack) => {
  if (ack && ack.err) { out({ error: 'write', detail: String(ack.err) }); }
  acked.add(soul);
  if (acked.size === souls.length && stage === 'write') spawnJoiner();
}));
}
function spawnJoiner() {
  stage = 'join';
  const written = Date.now() - start;
  const args = process.argv.slice(1);
  args[1] = Buffer.from(JSON.stringify(Object.assign({}, p, { role: 'join' }))).toString('base64');
  const child = require('child_process').spawn(process.execPath, process.execArgv.concat(args),
                                               { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  child.stdout.on('data', (d) => { text += d; });
  child.on('close', () => {
    const line = text.split('\n').find((l) => l.startsWith('LOOMJOIN '));
    const got = line ? JSON.parse(line.slice(9)) : { error: 'joiner', detail: text.slice(-200) };
    out(Object.assign(got, { write_ms: written }));
  });
}
function join() {
  const t0 = Date.now(), j = Gun(opt()), held = new Set();
  let ready = null;
  const deadline = t0 + p.timeout * 1000;
  (function tick() {
    const peers = j._.opt.peers || {};
    if (ready === null && Object.keys(peers).some((k) => peers[k].wire && peers[k].wire.readyState === 1)) {
      ready = Date.now() - t0;
    }
    souls.forEach((soul, i) => {
      if (held.has(soul)) return;
      j.get(soul).once((d) => { if (d && d.v === p.values[i]) held.add(soul); });
    });
    if (held.size === souls.length || Date.now() > deadline) {
      return out({ ready_ms: ready, held_ms: held.size === souls.length ? Date.now() - t0 : null,
                   held: held.size, missing: souls.filter((s) => !held.has(s)) });
    }
    setTimeout(tick, 50);
  })();
}
if (p.role === 'join') { join(); } else { write(); }
