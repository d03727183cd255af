// Debian's Chromium as the tests launch it, for the browser project and the e2e harness alike.

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless flags that work as root here (shared/docs/environment.md); --enable-unsafe-webgpu exposes the SwiftShader adapter. */
export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
