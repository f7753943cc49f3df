// Microsoft's Kusto parser (npm @kusto/language-service-next) as a line protocol for the test suite.
// stdin line 1: {"tables": {"Table": {"column": "type", ...}, ...}}
// then one JSON request per line: {"id": ..., "text": KQL, "tokens": bool, "syntaxOnly": bool}
// stdout: one JSON answer per request: {"id", "diagnostics": [{severity, code, message, start, length}], "tokens"}
'use strict';
const path = require('path');
const base = path.join(__dirname, 'node', 'node_modules', '@kusto', 'language-service-next');
require(path.join(base, 'bridge.min.js'));          // defines the global Bridge (must come first)
require(path.join(base, 'Kusto.Language.Bridge.min.js'));
const K = Kusto.Language;
const S = K.Symbols;
const readline = require('readline');

let globals = null;
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const msg = JSON.parse(line);
  if (globals === null) {
    const tables = Object.entries(msg.tables).map(([name, cols]) =>
      new S.TableSymbol.$ctor4(name, Object.entries(cols).map(([c, t]) =>
        new S.ColumnSymbol(c, S.ScalarTypes.GetSymbol(t), null, null, null, null))));
    globals = K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor('loom', tables));
    process.stdout.write(JSON.stringify({ ready: true }) + '\n');
    return;
  }
  const code = msg.syntaxOnly ? K.KustoCode.Parse(msg.text) : K.KustoCode.ParseAndAnalyze(msg.text, globals);
  const diagnostics = Bridge.toArray(code.GetDiagnostics()).map((d) => ({
    severity: d.Severity, code: d.Code, message: d.Message, start: d.Start, length: d.Length }));
  const out = { id: msg.id, diagnostics };
  if (msg.tokens) {
    const tokens = [];
    for (let t = code.Syntax.GetFirstToken(); t; t = t.GetNextToken()) {
      tokens.push([t.Kind, t.ValueText]);
    }
    out.tokens = tokens;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
