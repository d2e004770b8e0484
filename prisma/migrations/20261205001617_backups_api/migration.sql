-- CreateEnum
CREATE TYPE "BackupPurpose" AS ENUM ('scheduled', 'on_demand', 'pre_upgrade');

-- AlterEnum
ALTER TYPE "ClusterStatus" ADD VALUE 'restoring' BEFORE 'degraded';

-- AlterTable
ALTER TABLE "backup_schedules" ADD COLUMN     "label_selector" TEXT,
ADD COLUMN     "last_run_at" TIMESTAMPTZ(3),
ADD COLUMN     "next_run_at" TIMESTAMPTZ(3),
ADD COLUMN     "stale_since" TIMESTAMPTZ(3);

-- AlterTable (columns in the model's order: the drift test compares it)
ALTER TABLE "backups" ADD COLUMN     "purpose" "BackupPurpose" NOT NULL DEFAULT 'on_demand',
ADD COLUMN     "operation_id" TEXT,
ADD COLUMN     "taken_before_version" TEXT,
ADD COLUMN     "included_namespaces" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "excluded_namespaces" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "label_selector" TEXT,
ADD COLUMN     "restore_operation_id" TEXT,
ADD COLUMN     "updated_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "backups_status_completed_at_idx" ON "backups"("status", "completed_at");

-- CreateIndex
CREATE UNIQUE INDEX "backups_operation_id_taken_before_version_key" ON "backups"("operation_id", "taken_before_version");

