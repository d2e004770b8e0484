-- Interval ends move forward on every flush of the SLA monitor: with no index holding `ended_at`,
-- those updates are HOT (no index entries written), given free room on the row's page.
-- DropIndex
DROP INDEX "availability_intervals_cluster_id_vantage_ended_at_idx";

-- Not expressible in schema.prisma, so also in prisma/beyond-schema.sql for the drift test.
ALTER TABLE "availability_intervals" SET (fillfactor = 70);
