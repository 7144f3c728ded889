"""claimwatch's record: tables, engines, migrations and every query; never imports flows."""
