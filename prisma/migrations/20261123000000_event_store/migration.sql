-- CreateEnum
CREATE TYPE "Platform" AS ENUM ('moltstation', 'spacemolt', 'cloudplay', 'rgs');

-- CreateEnum
CREATE TYPE "SessionStatus" AS ENUM ('open', 'ended', 'sealed');

-- CreateEnum
CREATE TYPE "EventKind" AS ENUM ('frame', 'input', 'command', 'notification', 'request', 'response', 'lifecycle', 'gap', 'marker', 'outcome', 'keyframe');

-- CreateEnum
CREATE TYPE "Direction" AS ENUM ('client_to_platform', 'platform_to_client', 'internal');

-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('play_ws', 'spectate_ws', 'http', 'poll', 'internal');

-- CreateEnum
CREATE TYPE "BodyFormat" AS ENUM ('json', 'ndjson', 'text', 'binary', 'empty');

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL,
    "platform" "Platform" NOT NULL,
    "game" TEXT,
    "platform_session_id" TEXT,
    "agent" TEXT,
    "source" TEXT,
    "status" "SessionStatus" NOT NULL DEFAULT 'open',
    "started_at" TIMESTAMPTZ(6) NOT NULL,
    "ended_at" TIMESTAMPTZ(6),
    "head_seq" INTEGER NOT NULL DEFAULT 0,
    "head_hash" BYTEA NOT NULL,
    "sealed_at" TIMESTAMPTZ(6),
    "sealed_hash" BYTEA,
    "sealed_count" INTEGER,
    "outcome" JSONB,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "session_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "global_position" BIGSERIAL NOT NULL,
    "tx_id" BIGINT NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint,
    "kind" "EventKind" NOT NULL,
    "direction" "Direction" NOT NULL,
    "channel" "Channel" NOT NULL,
    "recorded_at" TIMESTAMPTZ(6) NOT NULL,
    "offset_us" BIGINT NOT NULL,
    "format" "BodyFormat" NOT NULL,
    "body_text" TEXT,
    "body_bytes" BYTEA,
    "msg_type" TEXT,
    "tick" INTEGER,
    "request_id" TEXT,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "events_pkey" PRIMARY KEY ("session_id","seq")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "session_id" UUID,
    "queue" TEXT NOT NULL,
    "job_name" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "relayed_at" TIMESTAMPTZ(6),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sessions_platform_started_at_idx" ON "sessions"("platform", "started_at" DESC);

-- CreateIndex
CREATE INDEX "sessions_status_started_at_idx" ON "sessions"("status", "started_at" DESC);

-- CreateIndex
CREATE INDEX "sessions_platform_session_id_idx" ON "sessions"("platform_session_id");

-- CreateIndex
CREATE INDEX "events_session_id_offset_us_idx" ON "events"("session_id", "offset_us");

-- CreateIndex
CREATE INDEX "events_tx_id_global_position_idx" ON "events"("tx_id", "global_position");

-- CreateIndex
CREATE INDEX "outbox_relayed_at_created_at_idx" ON "outbox"("relayed_at", "created_at");

-- CreateIndex
CREATE INDEX "outbox_session_id_idx" ON "outbox"("session_id");

-- Rewind: beyond what Prisma models. The event log is append-only, whoever connects.
CREATE FUNCTION "rewind_refuse_event_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rewind: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation', HINT = 'append a correcting event instead';
END;
$$;

CREATE TRIGGER "events_append_only_row"
    BEFORE UPDATE OR DELETE ON "events"
    FOR EACH ROW EXECUTE FUNCTION "rewind_refuse_event_change"();

CREATE TRIGGER "events_append_only_truncate"
    BEFORE TRUNCATE ON "events"
    FOR EACH STATEMENT EXECUTE FUNCTION "rewind_refuse_event_change"();

-- A session's head moves only forwards, and a sealed session's seal never changes.
CREATE FUNCTION "rewind_guard_session_head"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.head_seq < OLD.head_seq THEN
        RAISE EXCEPTION 'rewind: session % head cannot move backwards (% -> %)', OLD.id, OLD.head_seq, NEW.head_seq
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.sealed_at IS NOT NULL AND (
        NEW.sealed_at IS DISTINCT FROM OLD.sealed_at OR NEW.sealed_hash IS DISTINCT FROM OLD.sealed_hash
        OR NEW.sealed_count IS DISTINCT FROM OLD.sealed_count OR NEW.head_seq <> OLD.head_seq
        OR NEW.head_hash <> OLD.head_hash) THEN
        RAISE EXCEPTION 'rewind: session % is sealed', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER "sessions_guard_head"
    BEFORE UPDATE ON "sessions"
    FOR EACH ROW EXECUTE FUNCTION "rewind_guard_session_head"();

CREATE TRIGGER "sessions_no_delete"
    BEFORE DELETE OR TRUNCATE ON "sessions"
    FOR EACH STATEMENT EXECUTE FUNCTION "rewind_refuse_event_change"();
