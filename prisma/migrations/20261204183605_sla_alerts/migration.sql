-- CreateEnum
CREATE TYPE "SlaAlertSeverity" AS ENUM ('page', 'ticket');

-- CreateTable
CREATE TABLE "sla_alerts" (
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "severity" "SlaAlertSeverity",
    "firing_since" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sla_alerts_pkey" PRIMARY KEY ("cluster_id")
);

-- CreateIndex
CREATE INDEX "sla_alerts_severity_idx" ON "sla_alerts"("severity");

-- AddForeignKey
ALTER TABLE "sla_alerts" ADD CONSTRAINT "sla_alerts_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

