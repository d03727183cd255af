// Runs the command line as a user does (`node bin/farmer.mjs …`) and returns its exit code and output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `farmer …` in the repository root; `timeoutMs` bounds one run. */
export async function runFarmer(args: string[], { timeoutMs = 60_000 } = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec('node', ['bin/farmer.mjs', ...args], {
      cwd: process.cwd(),
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as CliResult;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
