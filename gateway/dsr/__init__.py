"""Data subjects' requests (PIPL Art. 44–50): records, a status machine, working-day
deadlines, fulfilment (access and portability packages, correction, deletion,
explanation) and their API."""
