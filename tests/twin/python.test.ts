// The twin's own test modules (python/tests, unittest), one test here each: CFG against closed
// forms, TARFlow conversion against an independent forward and its refusals, the safetensors
// reader/writer, training a prior over a TARFlow's frozen AF (--init-af, --freeze-af). Their output is shown when one fails.
import { expect, it } from 'vitest';
import { describeTwin, runPython } from './twin';

const modules = ['test_guidance', 'test_convert_tarflow', 'test_safetensors', 'test_train_init_af'];

describeTwin("the twin's python test modules", () => {
  it.each(modules)('python/tests/%s.py passes', async (name) => {
    const r = await runPython([
      '-m',
      'unittest',
      'discover',
      '-s',
      'python/tests',
      '-t',
      'python',
      '-p',
      `${name}.py`,
      '-v',
    ]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/\nOK( \(skipped=\d+\))?\n/);
    expect(r.stderr).not.toMatch(/Ran 0 tests/);
  });
});
