/** Everything the CLI touches outside itself, in one object tests can replace. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal (progress and colour are allowed). */
  isTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stderr.isTTY),
  env: process.env,
  cwd: process.cwd(),
};

/** Colour only on a terminal and never with NO_COLOR. */
export function colours(io: CliIO) {
  const on = io.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  const wrap = (code: number) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { red: wrap(31), yellow: wrap(33), green: wrap(32), dim: wrap(2), bold: wrap(1) };
}
