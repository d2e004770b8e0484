-- DropIndex
DROP INDEX "audit_events_organization_id_id_idx";

-- DropIndex
DROP INDEX "audit_events_target_type_target_id_idx";

-- CreateIndex
CREATE INDEX "audit_events_organization_id_created_at_id_idx" ON "audit_events"("organization_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "audit_events_created_at_id_idx" ON "audit_events"("created_at", "id");

-- CreateIndex
CREATE INDEX "audit_events_target_id_created_at_id_idx" ON "audit_events"("target_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "audit_events_actor_id_created_at_id_idx" ON "audit_events"("actor_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "audit_events_action_created_at_id_idx" ON "audit_events"("action", "created_at", "id");

