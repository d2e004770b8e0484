-- AlterTable
ALTER TABLE "availability_intervals" ADD COLUMN     "vantage" TEXT NOT NULL DEFAULT 'default',
ALTER COLUMN "ended_at" SET NOT NULL;

-- CreateIndex
CREATE INDEX "availability_intervals_cluster_id_vantage_ended_at_idx" ON "availability_intervals"("cluster_id", "vantage", "ended_at");

