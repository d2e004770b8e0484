-- The catalogue moves from a JSON file compiled into dist to this table (docs/upgrades.md). The
-- table was never written before this release (it had no rows), so it is recreated rather than
-- altered: `state` goes (computed from the dates and the clock), `source` becomes one source per
-- date, and the columns keep the order of schema.prisma.

-- DropTable
DROP TABLE "kubernetes_versions";

-- DropEnum
DROP TYPE "VersionState";

-- CreateTable
CREATE TABLE "kubernetes_versions" (
    "provider" "Provider" NOT NULL,
    "minor" TEXT NOT NULL,
    "latest_patch" TEXT NOT NULL,
    "patches" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "released_at" DATE NOT NULL,
    "maintenance_at" DATE,
    "standard_support_ends_at" DATE,
    "end_of_support_at" DATE NOT NULL,
    "preview" BOOLEAN NOT NULL DEFAULT false,
    "default_for_new" BOOLEAN NOT NULL DEFAULT false,
    "sources" JSONB NOT NULL DEFAULT '{}',
    "seed_revision" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "kubernetes_versions_pkey" PRIMARY KEY ("provider","minor")
);
