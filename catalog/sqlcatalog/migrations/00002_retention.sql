-- Retention and disposal, and the exhibit number of the forensic metadata
-- (docs/catalog.md). The defaults are what the fold gives a chain that records
-- none of these facts, as every chain did before they were recorded; `evidencegw
-- catalog check` finds any row that differs, and `catalog rebuild` recomputes it.

-- +goose Up
ALTER TABLE exhibits ADD COLUMN exhibit_number TEXT NOT NULL DEFAULT '';
ALTER TABLE exhibits ADD COLUMN retain_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE exhibits ADD COLUMN disposed_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE exhibits DROP COLUMN disposed_at;
ALTER TABLE exhibits DROP COLUMN retain_until;
ALTER TABLE exhibits DROP COLUMN exhibit_number;
