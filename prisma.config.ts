// Prisma here only generates the client: migrations are plain SQL applied by dbmate (see DESIGN.md),
// so no datasource URL is needed at generate time.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
});
