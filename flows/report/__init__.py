"""What people read: the HTML timeline report, markdown for the Prefect UI, export and CLI text."""
