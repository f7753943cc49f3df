// loomctl in-replica probe (runs with plain `node`, no packages): DNS lookup, TCP connect, WebSocket upgrade on
// the peer path, GUN hello, dam ping, read. Parameters arrive base64-encoded JSON in process.argv[2]; each result
// is printed as one line `LOOMPROBE <json>`. Never prints anything else on stdout.
'use strict';
const dns = require('dns'), net = require('net'), tls = require('tls'), crypto = require('crypto');
const P = JSON.parse(Buffer.from(process.argv[2], 'base64').toString('utf8'));
const out = (o) => process.stdout.write('LOOMPROBE ' + JSON.stringify(o) + '\n');
const now = () => Number(process.hrtime.bigint()) / 1e6;
const ms = (t0) => Math.round((now() - t0) * 100) / 100;
const TIMEOUT = (P.timeout || 5) * 1000;
const DNS_CODES = {ENOTFOUND: 'nxdomain', ENODATA: 'no-answer', ESERVFAIL: 'servfail', ETIMEOUT: 'timeout',
  EAI_AGAIN: 'timeout', ECONNREFUSED: 'error', EREFUSED: 'error'};

function withTimeout(p, msec, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(Object.assign(new Error(what), {code: 'LOOMTIMEOUT'})), msec); })])
    .finally(() => clearTimeout(t));
}

async function resolveHost(host, msec) {
  const t0 = now();
  const r = {kind: 'dns', host, ok: false, status: 'error', addresses: [], duration_ms: 0, server: 'system', error: null};
  if (net.isIP(host.replace(/^\[|\]$/g, ''))) {
    Object.assign(r, {ok: true, status: 'literal', addresses: [host.replace(/^\[|\]$/g, '')], server: '-'});
    return r;
  }
  try {
    let addrs;
    if (P.dns && P.dns.length) {
      const res = new dns.promises.Resolver({timeout: Math.min(msec, 2000), tries: 1});
      res.setServers(P.dns);
      r.server = P.dns.join(', ');
      try { addrs = await withTimeout(res.resolve4(host), msec, 'dns'); }
      catch (e) { if (e.code !== 'ENODATA') throw e; addrs = await withTimeout(res.resolve6(host), msec, 'dns'); }
    } else {
      r.server = 'system (getaddrinfo)';
      addrs = (await withTimeout(dns.promises.lookup(host, {all: true}), msec, 'dns')).map((a) => a.address);
    }
    Object.assign(r, {ok: true, status: 'ok', addresses: addrs});
  } catch (e) {
    r.status = e.code === 'LOOMTIMEOUT' ? 'timeout' : (DNS_CODES[e.code] || 'error');
    r.error = e.code === 'LOOMTIMEOUT' ? `no DNS answer within ${msec / 1000} s` : `${host}: ${e.code || e.message}`;
  }
  r.duration_ms = ms(t0);
  return r;
}

function splitUrl(url) {
  const u = new URL(url.includes('://') ? url : 'http://' + url);
  const scheme = {ws: 'http', wss: 'https'}[u.protocol.slice(0, -1)] || u.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`scheme '${u.protocol.slice(0, -1)}' is not http, https, ws or wss`);
  return {scheme, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (scheme === 'https' ? 443 : 80),
    path: (u.pathname || '/') + (u.search || '')};
}

function wsFrame(text) {  // a masked client text frame
  const data = Buffer.from(text, 'utf8'), mask = crypto.randomBytes(4);
  let head;
  if (data.length < 126) head = Buffer.from([0x81, 0x80 | data.length]);
  else if (data.length < 65536) { head = Buffer.alloc(4); head[0] = 0x81; head[1] = 0x80 | 126; head.writeUInt16BE(data.length, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x81; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(data.length), 2); }
  const body = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) body[i] = data[i] ^ mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

async function probePeer(url, role) {
  const t0 = now(), deadline = t0 + TIMEOUT;
  const left = () => Math.max(10, deadline - now());
  const r = {kind: 'peer', url, role, host: '', port: 0, ok: false, failed_stage: null, error: null, pid: null,
    rtt_ms: null, duration_ms: 0, stages: []};
  let stage = null, st0 = 0, sock = null;
  const begin = (n) => { stage = n; st0 = now(); };
  const pass = (details) => { r.stages.push({name: stage, ok: true, duration_ms: ms(st0), error: null, details: details || {}}); stage = null; };
  const fail = (error, details) => { r.stages.push({name: stage, ok: false, duration_ms: ms(st0), error, details: details || {}});
    r.failed_stage = stage; r.error = error; stage = null; };
  try {
    begin('dns');
    let u;
    try { u = splitUrl(url); } catch (e) { fail(`not a peer URL: ${e.message}`, {status: 'error'}); return r; }
    r.host = u.host; r.port = u.port;
    const d = await resolveHost(u.host, left());
    if (!d.ok) { fail(d.error || d.status, {status: d.status, timeout: d.status === 'timeout'}); return r; }
    pass({addresses: d.addresses, status: d.status});

    begin('tcp');
    sock = await withTimeout(new Promise((res, rej) => {
      const s = net.connect({host: d.addresses[0], port: u.port});
      s.once('connect', () => res(s)); s.once('error', rej);
    }), left(), 'tcp').catch((e) => { if (e.code === 'LOOMTIMEOUT') throw e; return e; });
    if (sock instanceof Error) {
      const e = sock; sock = null;
      fail(e.code === 'ECONNREFUSED' ? `connection refused by ${u.host}:${u.port}` : `cannot connect to ${u.host}:${u.port}: ${e.code || e.message}`,
        {code: e.code || null});
      return r;
    }
    pass({address: sock.remoteAddress});

    begin('websocket');
    if (u.scheme === 'https') sock = tls.connect({socket: sock, servername: net.isIP(u.host) ? undefined : u.host});
    const key = crypto.randomBytes(16).toString('base64');
    const hostHeader = u.host.includes(':') ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
    sock.write(`GET ${u.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: loomctl-inside-probe\r\n\r\n`);
    let buf = Buffer.alloc(0), closed = null;
    const waiters = [];
    const kick = () => { while (waiters.length) waiters.shift()(); };
    sock.on('data', (c) => { buf = Buffer.concat([buf, c]); kick(); });
    sock.on('close', () => { closed = closed || 'closed'; kick(); });
    sock.on('error', (e) => { closed = e.code || e.message; kick(); });
    const more = () => new Promise((res) => waiters.push(res));
    while (buf.indexOf('\r\n\r\n') < 0) {
      if (closed) { fail(`connection closed during the upgrade (${closed})`, {}); return r; }
      await withTimeout(more(), left(), 'websocket');
    }
    const headEnd = buf.indexOf('\r\n\r\n');
    const statusLine = buf.slice(0, headEnd).toString('latin1').split('\r\n')[0];
    const status = Number((statusLine.match(/^HTTP\/\d\.\d (\d{3})/) || [])[1]);
    buf = buf.slice(headEnd + 4);
    if (status !== 101) {
      if (!status) { fail(`WebSocket upgrade failed: not an HTTP answer (${JSON.stringify(statusLine.slice(0, 40))})`, {}); return r; }
      fail(`upgrade rejected with HTTP ${status}`, {http_status: status}); return r;
    }
    pass({status: 101});

    const messages = [];
    let garbage = null;
    const parse = () => {
      while (buf.length >= 2) {
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (len > (1 << 20)) { closed = 'frame too big'; return; }
        if (buf.length < off + len) return;
        const op = buf[0] & 0x0f, payload = buf.slice(off, off + len);
        buf = buf.slice(off + len);
        if (op === 8) { closed = 'close frame'; continue; }
        if (op !== 1) continue;
        try {
          const m = JSON.parse(payload.toString('utf8'));
          for (const x of Array.isArray(m) ? m : [m]) if (x && typeof x === 'object') messages.push(x);
        } catch (e) { garbage = garbage || payload.toString('utf8').slice(0, 60); }
      }
    };
    const waitFor = async (pred) => {
      for (;;) {
        parse();
        const i = messages.findIndex(pred);
        if (i >= 0) return messages.splice(i, 1)[0];
        if (garbage && stage === 'hello') throw Object.assign(new Error(`the peer sent data that is not GUN (${JSON.stringify(garbage)})`), {code: 'GARBAGE'});
        if (closed) throw Object.assign(new Error(`connection closed during the ${stage} stage (${closed})`), {code: 'CLOSED'});
        await withTimeout(more(), left(), stage);
      }
    };
    const send = (m) => sock.write(wsFrame(JSON.stringify(m)));
    const id = () => crypto.randomBytes(9).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');

    begin('hello');
    try { const h = await waitFor((m) => m.dam === '?' && m['@'] === undefined); r.pid = h.pid || null; pass({pid: r.pid}); }
    catch (e) { if (e.code === 'LOOMTIMEOUT') throw e; fail(e.message, {}); return r; }

    begin('ping');
    const mine = 'in' + id();
    const pingId = id(), tp = now();
    send({'#': pingId, dam: '?', pid: mine});
    try {
      const a = await waitFor((m) => m['@'] === pingId);
      r.rtt_ms = ms(tp);
      if (a.pid && r.pid && a.pid !== r.pid) { fail(`the ping was answered by pid ${a.pid}, not the hello's ${r.pid}`, {}); return r; }
      pass({rtt_ms: r.rtt_ms});
    } catch (e) { if (e.code === 'LOOMTIMEOUT') throw e; fail(e.message, {}); return r; }

    begin('read');
    const getId = id(), tg = now();
    send({'#': getId, get: {'#': 'loomctl/probe/read'}});
    try { await waitFor((m) => m['@'] === getId); pass({replies: 1, first_reply_ms: ms(tg)}); }
    catch (e) { if (e.code === 'LOOMTIMEOUT') throw e; fail(e.message, {}); return r; }
  } catch (e) {
    const s = stage || 'dns';
    if (!stage) begin(s);
    fail(e.code === 'LOOMTIMEOUT' ? `timed out after ${TIMEOUT / 1000} s in the ${s} stage` : `${e.code || 'Error'}: ${e.message}`,
      e.code === 'LOOMTIMEOUT' ? {timeout_s: TIMEOUT / 1000} : {});
  } finally {
    if (sock) sock.destroy();
    r.duration_ms = ms(t0);
    r.ok = r.failed_stage === null && r.stages.length === 6;
  }
  return r;
}

(async () => {
  out({kind: 'tools', tool: 'node', version: process.version});
  const jobs = [];
  for (const h of P.hosts || []) jobs.push(resolveHost(h, TIMEOUT).then(out));
  for (const [url, role] of P.peers || []) jobs.push(probePeer(url, role).then(out));
  await Promise.all(jobs);
  out({kind: 'done'});
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(70); });
