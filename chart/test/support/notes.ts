import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { runHelm } from './helm.js';
import { CHART_DIR, helmArgs, type RenderOptions } from './render.js';

/**
 * NOTES.txt as `helm install` would print it. `helm template` never renders NOTES.txt and `helm install
 * --dry-run` needs a cluster, so a throw-away copy of the chart gets a probe: NOTES.txt's text as a named
 * template, rendered into a ConfigMap. The chart itself is not changed.
 */
export async function renderNotes(options: RenderOptions = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cliscale-chart-notes-'));
  try {
    const chart = path.join(dir, 'cliscale');
    await cp(CHART_DIR, chart, { recursive: true, filter: (src) => !src.startsWith(path.join(CHART_DIR, 'test')) });
    const notes = await readFile(path.join(chart, 'templates/NOTES.txt'), 'utf8');
    await writeFile(path.join(chart, 'templates/_notes-probe.tpl'), `{{- define "notes-probe" -}}\n${notes}{{- end }}\n`);
    await writeFile(
      path.join(chart, 'templates/notes-probe.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes-probe}\ndata:\n  notes: {{ include "notes-probe" . | quote }}\n',
    );
    const args = helmArgs('template', options).map((a) => (a === CHART_DIR ? chart : a.replace(`${CHART_DIR}/`, `${chart}/`)));
    const result = await runHelm([...args, '--show-only', 'templates/notes-probe.yaml']);
    if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
    return (parse(result.stdout) as { data: { notes: string } }).data.notes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
