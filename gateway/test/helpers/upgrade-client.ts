import WebSocket from 'ws';

/** Tries a WebSocket upgrade and reports the outcome: 101 (opened) or the refusal's status and JSON body. */
export function tryUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body?: { error: string; reason: string }; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['tty'], { headers });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as { error: string; reason: string }) : undefined });
      });
    });
    ws.once('error', () => resolve({ status: 0 }));
  });
}
