"""Provider adapters behind `typing.Protocol`s; a leaf package that imports nothing of ours."""
