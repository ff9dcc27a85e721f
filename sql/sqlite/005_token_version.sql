-- birdfeed archive: which version of birdfeed's tokeniser (TOKEN_VERSION in
-- lib/token.h) cut the `words` of the rows. Every change of the tokeniser's
-- output gets a new version; `birdfeed migrate` recomputes the words of
-- every row when this is not its own tokeniser's version, and records it in
-- the same transaction, so live matching and the archive cut alike again.
-- 0: not recorded (the rows were archived before this table existed; the
-- migrate that applies this migration recomputes them right after).
CREATE TABLE token_version (version integer NOT NULL);
INSERT INTO token_version (version) VALUES (0);
