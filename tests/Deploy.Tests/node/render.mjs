// Renders templates with Go's own text/template (compiled to WebAssembly), as Helm's engine does
// without its Sprig functions. stdin: {"data": <Helm's top-level object>, "helpers": "<the _*.tpl
// files>", "templates": [{"name": "...", "text": "..."}]}; stdout: [{"name", "output"} or {"name", "error"}].
// Helm parses every file of a chart into one template set; here each template is parsed together
// with the helpers, whose definitions render to nothing.
import { parse } from "@evertdespiegeleer/go-template";

const input = JSON.parse(await new Response(process.stdin).text());
const results = [];
for (const template of input.templates) {
  try {
    results.push({ name: template.name, output: await parse(input.helpers + template.text, input.data) });
  } catch (e) {
    results.push({ name: template.name, error: `${e.constructor.name}: ${e.message}` });
  }
}
process.stdout.write(JSON.stringify(results));
