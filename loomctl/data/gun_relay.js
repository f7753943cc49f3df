// gun_relay.js: a GUN relay (or a node peer) for the loomctl sandbox and tests.
// env: PORT (8765), HOST (127.0.0.1), PEERS (comma-separated .../gun URLs), DATA (radisk dir, default "radata"),
//      RAD=false for memory only, AXE=false for flood routing, REDIAL=once / NO_REDIAL=true (below). Multicast and the stats file are always off.
// Relays dial their peers lazily and give up after one failed redial, so this dials at once and every second.
const http = require('http');
const Gun = require('gun');
const port = Number(process.env.PORT || process.argv[2] || 8765);
const host = process.env.HOST || '127.0.0.1';
const peers = (process.env.PEERS || '').split(',').filter(Boolean);
const server = http.createServer((req, res) => { res.writeHead(200); res.end('gun relay\n'); });
server.listen(port, host, () => console.log(`relay up ws://${host}:${port}/gun`));
const gun = Gun({ web: server, peers, file: process.env.DATA || 'radata',
                  radisk: process.env.RAD !== 'false', multicast: false, stats: false,
                  axe: process.env.AXE !== 'false' });
const opt = gun._.opt, links = {};
function dial() {
  for (const url of peers) {
    const p = links[url] || (links[url] = opt.peers[url] || { id: url, url });
    if (p.wire && p.wire.readyState <= 1) continue;
    clearTimeout(p.defer);
    opt.mesh.wire(p);
  }
}
// REDIAL=once: dial at start and never again, as stock GUN does after a failed redial (the partition drill's
// non-redialling node); NO_REDIAL=true: leave all dialling to gun itself.
if (peers.length && process.env.NO_REDIAL !== 'true') {
  setTimeout(dial, 50);
  if (process.env.REDIAL !== 'once') setInterval(dial, 1000);
}
process.on('SIGTERM', () => process.exit(0));
