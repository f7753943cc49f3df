// loomctl in-replica load generator (`loomctl loadtest --from-inside`; plain `node`, no packages). The same plan
// as the local generator (loomctl/loadtest/run.py): writer i on peer i, reader j on peer j+1, one soul per
// writer, a fresh key s<seq> per write. Parameters arrive as base64 JSON in process.argv[2]. It prints only lines
// `LOOMLOAD <json>`: progress each second, then the raw samples, which loomctl turns into the summary.
'use strict';
const net = require('net'), tls = require('tls'), crypto = require('crypto');
const P = JSON.parse(Buffer.from(process.argv[2], 'base64').toString('utf8'));
const out = (o) => process.stdout.write('LOOMLOAD ' + JSON.stringify(o) + '\n');
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (msec) => new Promise((res) => setTimeout(res, Math.max(0, msec)));
const id = () => crypto.randomBytes(9).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');
const errors = [];
let errorCount = 0;
const error = (text) => { errorCount++; if (errors.length < 20 && !errors.includes(text)) errors.push(text); };

function frame(text) {  // a masked client text frame
  const data = Buffer.from(text, 'utf8'), mask = crypto.randomBytes(4);
  let head;
  if (data.length < 126) head = Buffer.from([0x81, 0x80 | data.length]);
  else if (data.length < 65536) { head = Buffer.alloc(4); head[0] = 0x81; head[1] = 0x80 | 126; head.writeUInt16BE(data.length, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x81; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(data.length), 2); }
  for (let i = 0; i < data.length; i++) data[i] ^= mask[i % 4];
  return Buffer.concat([head, mask, data]);
}

function connect(url, onMessage) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const secure = u.protocol === 'https:' || u.protocol === 'wss:';
    const port = Number(u.port) || (secure ? 443 : 80), host = u.hostname.replace(/^\[|\]$/g, '');
    const sock = secure ? tls.connect({host, port, servername: net.isIP(host) ? undefined : host}) : net.connect({host, port});
    const conn = {closed: null, send: (m) => sock.write(frame(JSON.stringify(m))), close: () => sock.destroy()};
    let buf = Buffer.alloc(0), open = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('timed out during opening handshake')); }, P.timeout_s * 1000);
    sock.once(secure ? 'secureConnect' : 'connect', () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.on('error', (e) => { conn.closed = e.code || e.message; clearTimeout(timer); if (!open) reject(e); });
    sock.on('close', () => { conn.closed = conn.closed || 'closed'; clearTimeout(timer); if (!open) reject(new Error('connection closed')); });
    sock.on('data', (chunk) => {
      const t = now();
      buf = Buffer.concat([buf, chunk]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = buf.slice(0, end).toString('latin1').split(' ')[1];
        buf = buf.slice(end + 4);
        clearTimeout(timer);
        if (status !== '101') { sock.destroy(); reject(new Error(`upgrade rejected with HTTP ${status}`)); return; }
        open = true;
        resolve(conn);
      }
      while (buf.length >= 2) {
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const op = buf[0] & 0x0f, payload = buf.slice(off, off + len);
        buf = buf.slice(off + len);
        if (op === 8) { conn.closed = 'close frame'; sock.destroy(); return; }
        if (op !== 1) continue;
        let m;
        try { m = JSON.parse(payload.toString('utf8')); } catch (e) { continue; }
        for (const x of Array.isArray(m) ? m : [m]) if (x && typeof x === 'object') onMessage(x, t);
      }
    });
  });
}

(async () => {
  const n = P.peers.length, souls = {};
  for (let i = 0; i < P.writers; i++) souls[`${P.prefix}/w${i}`] = i;
  const writers = [...Array(P.writers).keys()].map((i) => ({index: i, url: P.peers[i % n], conn: null}));
  const readers = [...Array(P.readers).keys()].map((j) => ({index: j, url: P.peers[(j + 1) % n], conn: null}));
  const writes = new Map(), arrivals = new Map(), pending = new Map();
  let measured = 0, acked = 0, seen = 0, bytes = 0, stop = false, capped = false, phase = 'warmup';
  const recentAck = [], recentProp = [];
  const recent = (a, v) => { a.push(v); if (a.length > 2000) a.shift(); };
  const onReader = (r) => (m, t) => {
    if (m['@'] !== undefined || !m.put || typeof m.put !== 'object') return;
    for (const [soul, node] of Object.entries(m.put)) {
      const w = souls[soul];
      if (w === undefined || !node || typeof node !== 'object') continue;
      for (const key of Object.keys(node)) {
        if (!/^s\d+$/.test(key)) continue;
        const wr = writes.get(`${w}:${key.slice(1)}`), k = `${r}:${w}:${key.slice(1)}`;
        if (!wr || arrivals.has(k)) continue;
        arrivals.set(k, t - wr.sent);
        if (wr.measured) { seen++; recent(recentProp, t - wr.sent); }
      }
    }
  };
  const onWriter = (m, t) => {
    const wr = pending.get(m['@']);
    if (!wr) return;
    pending.delete(m['@']);
    if (m.err) { error(`writer ${wr.w}: the peer refused a write: ${m.err}`); return; }
    wr.ack = t - wr.sent;
    if (wr.measured) { acked++; recent(recentAck, wr.ack); }
    if (wr.free) wr.free();
  };
  const dial = async (c, role) => {
    try { c.conn = await connect(c.url, role === 'reader' ? onReader(c.index) : onWriter); }
    catch (e) { error(`${role} ${c.index} on ${c.url}: cannot connect: ${e.message}`); }
  };
  await Promise.all(readers.map((c) => dial(c, 'reader')));
  await Promise.all(writers.map((c) => dial(c, 'writer')));
  for (const r of readers) if (r.conn) for (const soul of Object.keys(souls)) r.conn.send({'#': id(), get: {'#': soul}});
  await sleep(300);
  const start = now(), loadStart = start + P.warmup_s * 1000;
  let loadEnd = null;
  if (!P.warmup_s) phase = 'load';
  const take = () => {
    if (stop) return false;
    if (bytes + P.write_bytes > P.max_bytes) { capped = stop = true; return false; }
    const t = now();
    if (phase === 'warmup' && t >= loadStart) phase = 'load';
    if (P.count !== null && phase === 'load' && measured >= P.count) { stop = true; return false; }
    if (P.duration_s !== null && t >= loadStart + P.duration_s * 1000) { stop = true; return false; }
    return true;
  };
  const pct = (a) => { if (!a.length) return null; const s = [...a].sort((x, y) => x - y); const k = (s.length - 1) * 0.95;
    const lo = Math.floor(k), hi = Math.min(lo + 1, s.length - 1); return Math.round((s[lo] + (s[hi] - s[lo]) * (k - lo)) * 10) / 10; };
  const progress = () => {
    const el = Math.max(0, ((loadEnd || now()) - loadStart) / 1000);
    const conns = writers.concat(readers);
    out({kind: 'progress', elapsed_s: Math.round((now() - start) / 100) / 10, phase, writes: measured,
      rate: el > 0.05 ? Math.round(measured / el * 10) / 10 : 0, asked: P.rate, ack_p95_ms: pct(recentAck),
      propagation_p95_ms: pct(recentProp), errors: errorCount, reconnects: 0,
      connected: conns.filter((c) => c.conn && !c.conn.closed).length, connections: conns.length});
  };
  const ticker = setInterval(progress, 1000);
  const value = 'x'.repeat(P.size);
  const writer = async (c) => {
    const period = P.rate ? P.writers / P.rate * 1000 : 0;
    let due = start + (P.rate ? c.index / P.rate * 1000 : 0), seq = 0, inflight = 0, wake = null;
    while (take()) {
      if (!P.rate) {
        while (inflight >= P.in_flight) await new Promise((res) => { wake = res; });
        if (!take()) break;
      } else {
        if (due > now()) { await sleep(due - now()); if (!take()) break; }
        due = Math.max(due + period, now() - period);
      }
      if (!c.conn || c.conn.closed) { error(`writer ${c.index} on ${c.url}: not connected, write skipped`); await sleep(100); continue; }
      const soul = `${P.prefix}/w${c.index}`, key = `s${seq}`, msgId = id();
      const wr = {w: c.index, seq, measured: phase === 'load', sent: 0, ack: null, free: null};
      if (!P.rate) {
        inflight++;
        let freed = false;
        wr.free = () => { if (!freed) { freed = true; inflight--; if (wake) { const w = wake; wake = null; w(); } } };
        setTimeout(wr.free, P.timeout_s * 1000);
      }
      writes.set(`${c.index}:${seq}`, wr);
      pending.set(msgId, wr);
      wr.sent = now();
      c.conn.send({'#': msgId, put: {[soul]: {[key]: value, _: {'#': soul, '>': {[key]: Math.floor(Date.now()) - 1}}}}});
      seq++;
      bytes += P.write_bytes;
      if (wr.measured) measured++;
    }
  };
  await Promise.all(writers.map(writer));
  loadEnd = now();
  if (P.duration_s !== null) loadEnd = Math.min(loadEnd, loadStart + P.duration_s * 1000);
  phase = 'drain';
  let last = loadEnd;
  for (const wr of writes.values()) last = Math.max(last, wr.sent);
  while (now() < last + P.window_s * 1000 && !(acked >= measured && seen >= measured * readers.length)) await sleep(50);
  clearInterval(ticker);
  phase = 'done';
  progress();
  for (const c of writers.concat(readers)) if (c.conn) c.conn.close();
  const ws = [], as = [];
  for (const wr of writes.values()) ws.push([wr.w, wr.seq, wr.measured ? 1 : 0, wr.ack === null ? null : Math.round(wr.ack * 1000) / 1000]);
  for (const [k, v] of arrivals) { const [r, w, s] = k.split(':').map(Number); as.push([r, w, s, Math.round(v * 1000) / 1000]); }
  out({kind: 'result', writes: ws, arrivals: as, errors, error_count: errorCount, bytes, stopped_at_cap: capped,
    load_elapsed_s: (loadEnd - loadStart) / 1000, version: process.version});
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(70); });
