// loomctl mesh probe (runs with plain `node`, no packages) beside one replica's GUN process, on 127.0.0.1:<port>.
// Parameters: base64 JSON in process.argv[2]. Prints one line `LOOMMESH <json>` per result, nothing else on stdout.
//  hello: the local GUN process answers (its pid);  links: its established TCP connections (from /proc);
//  mode "write": put this replica's probe node and wait for the ack;  mode "read": get every other replica's probe
//  node until each is seen or the window ends (gets fan out through the mesh: a node reachable from here is found).
'use strict';
const net = require('net'), crypto = require('crypto'), fs = require('fs');
const P = JSON.parse(Buffer.from(process.argv[2], 'base64').toString('utf8'));
// the container's own setting wins (exec runs with the container's environment), else the app definition's port
P.port = Number(P.port_env && process.env[P.port_env]) || P.port;
const out = (o) => process.stdout.write('LOOMMESH ' + JSON.stringify(o) + '\n');
const now = () => Number(process.hrtime.bigint()) / 1e6;
const ms = (t0) => Math.round((now() - t0) * 10) / 10;
const T0 = now(), END = T0 + (P.timeout || 10) * 1000;
const left = () => Math.max(0, END - now());
const id = () => crypto.randomBytes(9).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');

function frame(text) {  // a masked client text frame
  const data = Buffer.from(text, 'utf8'), mask = crypto.randomBytes(4);
  let head;
  if (data.length < 126) head = Buffer.from([0x81, 0x80 | data.length]);
  else { head = Buffer.alloc(4); head[0] = 0x81; head[1] = 0x80 | 126; head.writeUInt16BE(data.length, 2); }
  const body = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) body[i] = data[i] ^ mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

function connect(port) {  // -> {send, next(pred, msec), close, localPort}; messages parsed as GUN batches
  return new Promise((resolve, reject) => {
    const sock = net.connect({host: '127.0.0.1', port});
    let buf = Buffer.alloc(0), upgraded = false, closed = null;
    const msgs = [], waiters = [];
    const kick = () => { while (waiters.length) waiters.shift()(); };
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`no WebSocket upgrade from 127.0.0.1:${port}`)); }, Math.min(left(), 5000));
    sock.once('error', (e) => { closed = e.code || e.message; clearTimeout(t); reject(new Error(`cannot connect to 127.0.0.1:${port}: ${closed}`)); kick(); });
    sock.on('close', () => { closed = closed || 'closed'; kick(); });
    sock.once('connect', () => sock.write(`GET /gun HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = buf.slice(0, end).toString('latin1').split(' ')[1];
        buf = buf.slice(end + 4);
        clearTimeout(t);
        if (status !== '101') { sock.destroy(); reject(new Error(`upgrade on 127.0.0.1:${port}/gun answered HTTP ${status}`)); return; }
        upgraded = true;
        resolve(api);
      }
      while (buf.length >= 2) {
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) break;
        const op = buf[0] & 0x0f, payload = buf.slice(off, off + len);
        buf = buf.slice(off + len);
        if (op === 8) { closed = 'close frame'; continue; }
        if (op !== 1) continue;
        try { const m = JSON.parse(payload.toString('utf8')); for (const x of Array.isArray(m) ? m : [m]) if (x && typeof x === 'object') msgs.push(x); }
        catch (e) { /* not GUN: ignored */ }
      }
      kick();
    });
    const api = {
      send: (m) => sock.write(frame(JSON.stringify(m))),
      async next(pred, msec) {  // the first message matching pred, or null when msec pass (throws when the socket closes)
        const until = now() + msec;
        for (;;) {
          const i = msgs.findIndex(pred);
          if (i >= 0) return msgs.splice(i, 1)[0];
          if (closed) throw new Error(`the GUN process closed the connection (${closed})`);
          const wait = until - now();
          if (wait <= 0) return null;
          await new Promise((res) => { const tm = setTimeout(res, wait); waiters.push(() => { clearTimeout(tm); res(); }); });
        }
      },
      close: () => sock.destroy(),
      get localPort() { return sock.localPort; },
    };
  });
}

function tcpTable() {  // inode -> {local, remote, state} from /proc/net/tcp and tcp6
  const rows = {};
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try { text = fs.readFileSync(f, 'utf8'); } catch (e) { continue; }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      rows[c[9]] = {local: addr(c[1]), remote: addr(c[2]), state: c[3]};
    }
  }
  return rows;
}

function addr(hex) {  // "0100007F:1F90" -> "127.0.0.1:8080" (IPv4 and IPv4-mapped IPv6; other IPv6 as hex groups)
  const [h, p] = hex.split(':');
  const port = parseInt(p, 16);
  let ip;
  if (h.length === 8) ip = [3, 2, 1, 0].map((i) => parseInt(h.substr(i * 2, 2), 16)).join('.');
  else if (h.startsWith('0000000000000000FFFF0000')) ip = [3, 2, 1, 0].map((i) => parseInt(h.substr(24 + i * 2, 2), 16)).join('.');
  else ip = '[' + h.match(/.{8}/g).map((w) => w.match(/../g).reverse().join('')).join('').match(/.{4}/g).join(':') + ']';
  return `${ip}:${port}`;
}

function socketInodes(pid) {
  const out = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try { const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`)); if (m) out.add(m[1]); } catch (e) { /* gone */ }
  }
  return out;
}

function links(port, ownPort) {  // the GUN process's established connections, as the kernel sees them
  let table;
  try { table = tcpTable(); } catch (e) { return {kind: 'links', source: null, reason: `cannot read /proc/net/tcp: ${e.code || e.message}`}; }
  const listen = Object.keys(table).filter((i) => table[i].state === '0A' && table[i].local.endsWith(':' + port));
  if (!Object.keys(table).length) return {kind: 'links', source: null, reason: 'no /proc/net/tcp in this image'};
  let gunPid = null, inodes = null;
  try {
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let s;
      try { s = socketInodes(pid); } catch (e) { continue; }
      if (listen.some((i) => s.has(i))) { gunPid = Number(pid); inodes = s; break; }
    }
  } catch (e) { return {kind: 'links', source: null, reason: `cannot read /proc: ${e.code || e.message}`}; }
  if (!inodes) return {kind: 'links', source: null, reason: `no process of this container listens on port ${port} that loomctl may inspect`};
  const found = [];
  for (const i of inodes) {
    const r = table[i];
    if (!r || r.state !== '01') continue;  // ESTABLISHED only
    if (r.remote.endsWith(':' + ownPort) && r.local.endsWith(':' + port)) continue;  // this probe's own connection
    found.push({dir: r.local.endsWith(':' + port) ? 'in' : 'out', local: r.local, remote: r.remote});
  }
  found.sort((a, b) => (a.dir + a.remote).localeCompare(b.dir + b.remote));
  return {kind: 'links', source: 'proc', process: gunPid, listen: listen.map((i) => table[i].local), links: found};
}

async function write(ws) {
  const t = Date.now() - 1;  // at or behind the relay's clock, or the put is deferred and never acked
  const node = {from: P.me, run: P.run, t};
  const soul = `${P.root}/${P.run}/${P.me}`;
  node._ = {'#': soul, '>': {from: t, run: t, t}};
  const m = {'#': id(), put: {[soul]: node}};
  const t0 = now();
  ws.send(m);
  const ack = await ws.next((x) => x['@'] === m['#'] && (x.ok || x.err), Math.min(left(), (P.ack || 3) * 1000));
  out({kind: 'wrote', soul, t, acked: !!(ack && ack.ok), error: ack && ack.err ? String(ack.err) : null,
    ack_ms: ack ? ms(t0) : null});
}

async function read(ws) {
  const want = new Map(P.others.map((name) => [`${P.root}/${P.run}/${name}`, name]));  // soul -> replica
  const asked = new Map(), t0 = now(), until = t0 + Math.min(left(), (P.window || 5) * 1000);
  const ask = () => { for (const soul of want.keys()) { const g = id(); asked.set(g, soul); ws.send({'#': g, get: {'#': soul}}); } };
  ask();
  let again = now() + 400;
  while (want.size && now() < until) {
    const m = await ws.next((x) => x.put && typeof x.put === 'object', Math.min(until, again) - now());
    if (m) {
      for (const [soul, node] of Object.entries(m.put)) {
        if (want.has(soul) && node && node.run === P.run) {
          out({kind: 'seen', name: want.get(soul), soul, ms: ms(t0), from: node.from});
          want.delete(soul);
        }
      }
    }
    if (now() >= again) { ask(); again = now() + 400; }
  }
  out({kind: 'read', unseen: [...want.values()], window_ms: ms(t0)});
}

(async () => {
  out({kind: 'tools', tool: 'node', version: process.version, pid: process.pid});
  let ws;
  const t0 = now();
  try { ws = await connect(P.port); }
  catch (e) { out({kind: 'hello', ok: false, port: P.port, error: e.message}); out({kind: 'done'}); process.exit(0); }
  const hello = await ws.next((m) => m.dam === '?' && m['@'] === undefined, Math.min(left(), 3000)).catch(() => null);
  out({kind: 'hello', ok: !!hello, port: P.port, pid: hello ? hello.pid || null : null, ms: ms(t0),
    error: hello ? null : `the GUN process on 127.0.0.1:${P.port} sent no hello`});
  if (P.links) out(links(P.port, ws.localPort));
  try {
    if (hello && P.mode === 'write') await write(ws);
    if (hello && P.mode === 'read') await read(ws);
  } catch (e) { out({kind: 'lost', error: e.message, ms: ms(t0)}); }
  ws.close();
  out({kind: 'done'});
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(70); });
