import WebSocket from 'ws';

/** Tries a WebSocket upgrade and reports the outcome: 101 (opened) or the refusal's status and JSON body. */
export function tryUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body?: { error: string; reason: string }; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['tty'], { headers });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    ws.once('error', () => resolve({ status: 0 }));
  });
}
