CREATE TABLE "generations" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"workflow_type" text NOT NULL,
	"workflow_id" text NOT NULL,
	"status" text NOT NULL,
	"current_step" jsonb,
	"input" jsonb NOT NULL,
	"output" jsonb,
	"error" jsonb,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"retry_of" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"webhook_url" text,
	"api_key_id" text,
	"revision" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "generations_workflow_id_idx" ON "generations" USING btree ("workflow_id");--> statement-breakpoint
CREATE INDEX "generations_created_at_idx" ON "generations" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "generations_status_idx" ON "generations" USING btree ("status");