-- AlterTable
ALTER TABLE "clusters" ADD COLUMN     "api_server_down_since" TIMESTAMPTZ(3),
ADD COLUMN     "api_server_down_reason" TEXT,
ADD COLUMN     "degraded_announced" BOOLEAN NOT NULL DEFAULT false;


-- Clusters the monitor had marked degraded before its view was data (it knew them by their reason's text).
UPDATE "clusters"
SET "api_server_down_reason" = "status_reason",
    "api_server_down_since" = coalesce(substring("status_reason" from 'since (\d{4}-\d\d-\d\dT\d\d:\d\d)Z')::timestamp AT TIME ZONE 'UTC', "updated_at"),
    "degraded_announced" = true
WHERE "status" = 'degraded' AND "deleted_at" IS NULL AND "status_reason" LIKE 'API server unreachable%';
