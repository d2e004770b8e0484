-- CreateTable
CREATE TABLE "cluster_component_scans" (
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "components" JSONB NOT NULL DEFAULT '[]',
    "scanned_at" TIMESTAMPTZ(3),
    "attempted_at" TIMESTAMPTZ(3) NOT NULL,
    "last_error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cluster_component_scans_pkey" PRIMARY KEY ("cluster_id")
);

-- CreateIndex
CREATE INDEX "cluster_component_scans_organization_id_cluster_id_idx" ON "cluster_component_scans"("organization_id", "cluster_id");

-- AddForeignKey
ALTER TABLE "cluster_component_scans" ADD CONSTRAINT "cluster_component_scans_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

