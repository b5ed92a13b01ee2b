// `npm run db:migrate`: applies prisma/migrations with dbmate to DATABASE_URL, or to the embedded
// database under DATA_DIR when DATABASE_URL is unset (the server does the same at start-up).
import { loadConfig } from '../config.js';
import { startEmbeddedPostgres } from '../services/db/embedded.js';
import { migrate } from '../services/db/migrate.js';

const config = loadConfig();
if (config.databaseUrl) {
  process.stdout.write(await migrate(config.databaseUrl));
} else {
  const embedded = await startEmbeddedPostgres(config.dataDir);
  try {
    process.stdout.write(await migrate(embedded.url));
  } finally {
    await embedded.stop();
  }
}
