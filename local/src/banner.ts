import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** Where sample-cli is, so the printed curl works as pasted. */
export function sampleCliPath(): string {
  return dirname(createRequire(import.meta.url).resolve('../../sample-cli/package.json'));
}

/** What a person needs after `npm start`: where it runs, the key, a curl that starts a session, what to open. */
export function banner(url: string, apiKey: string | undefined, startMs: number): string {
  const key = apiKey ?? '<one of your API_KEYS>';
  const body = JSON.stringify({ code_url: sampleCliPath(), command: 'node index.js', install_cmd: '', prompt: 'say hello' });
  return [
    '',
    `cliscale is running at ${url}  (ready in ${(startMs / 1000).toFixed(1)} s; Ctrl+C stops everything)`,
    '',
    `  API key: ${key}`,
    '',
    '  Start a session from sample-cli:',
    '',
    `  curl -s -X POST ${url}/api/sessions \\`,
    `    -H 'authorization: Bearer ${key}' -H 'content-type: application/json' \\`,
    `    -d '${body}'`,
    '',
    '  Then open the "terminalUrl" of the answer in a browser.',
    '',
  ].join('\n');
}
