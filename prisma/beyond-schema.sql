-- What the database has beyond what schema.prisma can say (Prisma 6 has no syntax for it). Each
-- statement here is also in the migration that introduced it; the drift test
-- (libs/platform/src/database/migrations.spec.ts) applies this file after schema.prisma's SQL and
-- compares the result with the migrated database, so the two cannot drift apart.

-- The SLA monitor moves open intervals' ends forward all the time: room on every page for the
-- new row version keeps those updates HOT (docs/sla.md, "How availability is stored").
ALTER TABLE "availability_intervals" SET (fillfactor = 70);
