-- CreateEnum
CREATE TYPE "AddonTier" AS ENUM ('always_on', 'default', 'optional');

-- AlterEnum
ALTER TYPE "OperationType" ADD VALUE 'update_addons';

-- CreateTable
CREATE TABLE "addon_releases" (
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "tier" "AddonTier" NOT NULL,
    "chart_repo" TEXT NOT NULL,
    "chart" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "app_version" TEXT,
    "min_minor" TEXT NOT NULL,
    "max_minor" TEXT NOT NULL,
    "settings_schema" JSONB NOT NULL,
    "checked" BOOLEAN NOT NULL DEFAULT false,
    "source" TEXT NOT NULL,
    "seed_revision" INTEGER,
    "withdrawn_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "addon_releases_pkey" PRIMARY KEY ("name","version")
);

-- CreateTable
CREATE TABLE "cluster_addons" (
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "status" TEXT NOT NULL,
    "status_message" TEXT,
    "installed_version" TEXT,
    "observed_at" TIMESTAMPTZ(3),
    "billed_since" TIMESTAMPTZ(3),
    "resource_version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cluster_addons_pkey" PRIMARY KEY ("cluster_id","name")
);

-- CreateIndex
CREATE INDEX "cluster_addons_organization_id_cluster_id_idx" ON "cluster_addons"("organization_id", "cluster_id");

-- AddForeignKey
ALTER TABLE "cluster_addons" ADD CONSTRAINT "cluster_addons_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

