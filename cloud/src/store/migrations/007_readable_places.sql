-- Readable places: what staff read instead of codes. An address gains its postal text
-- (e.g. 罗湖区东晓街道水贝二路12号), the name of the shop or household there and a contact phone
-- (floor and room exist since 002); jurisdictions (grid, community, street, district codes) get
-- display names. Existing rows keep working: every new column defaults to ''.
ALTER TABLE addresses ADD COLUMN address_text  text NOT NULL DEFAULT '';
ALTER TABLE addresses ADD COLUMN place_name    text NOT NULL DEFAULT '';
ALTER TABLE addresses ADD COLUMN contact_phone text NOT NULL DEFAULT '';

CREATE TABLE jurisdictions (
  tier  text NOT NULL CHECK (tier IN ('grid', 'community', 'street', 'district')),
  code  text NOT NULL,
  name  text NOT NULL,
  PRIMARY KEY (tier, code)
);
