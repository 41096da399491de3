// Bundles the dashboard (src/main.js with uPlot, src/dashboard.css) into OUTDIR: run by the API's build
// (src/Api/Api.csproj, target DashboardBundle) as `node build.mjs OUTDIR`. Nothing is fetched at run time.
import * as esbuild from 'esbuild';

const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: node build.mjs OUTDIR');
  process.exit(2);
}

await esbuild.build({
  entryPoints: ['src/main.js', 'src/dashboard.css'],
  entryNames: 'dashboard',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir,
  logLevel: 'warning',
  legalComments: 'eof',
});
