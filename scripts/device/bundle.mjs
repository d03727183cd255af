// esbuild bundle of the command line for a machine without node_modules (scripts/device/pack.sh):
// webgpu stays external (a native module), the browser-only `.wasm?url` imports become empty
// strings, and require/__dirname are defined for the bundled CommonJS parts of tfjs.
import { build } from 'esbuild';
await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  outfile: process.argv[2],
  banner: {
    js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url); import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
  },
  plugins: [
    {
      name: 'no-wasm-url',
      setup(b) {
        b.onResolve({ filter: /\.wasm\?url$/ }, (a) => ({ path: a.path, namespace: 'nowasm' }));
        b.onLoad({ filter: /.*/, namespace: 'nowasm' }, () => ({ contents: 'export default ""', loader: 'js' }));
      },
    },
  ],
});
