"""WebDataset tar shards (the `shards` extra): writing them, their sample format, streaming
them, and the DataModule that trains from them (`data=webdataset`)."""
