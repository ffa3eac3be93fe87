// The machine's ceiling: a bare Fastify route returning a fixed ~1 KB JSON body, in its
// own process, with the same Node and Fastify as Tessera. Prints its port on stdout.
import Fastify from 'fastify';

const item = (i) => ({
  id: `6b11e4b8819742fefb4a${String(9945 + i).padStart(4, '0')}`,
  name: `token-ab12cd-prod-${i}`,
  status: 'active',
  scope: ['all.Instance.read'],
  creationDate: '2026-01-01T00:00:00.000Z',
});
const BODY = { items: [0, 1, 2, 3, 4, 5].map(item), count: 6, totalCount: 6, page: 0, perPage: 6, _type: 'apiTokens' };

const app = Fastify({ logger: false });
app.get('/bare', async () => BODY);
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port, bytes: JSON.stringify(BODY).length })}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
