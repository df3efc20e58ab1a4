"""One item as a YAML block, for the item editor: the same text an item has in its ramp
file, so what an educator learns in the browser carries over to the files and back."""

from courses.ramp_files import _item as item_to_mapping
from courses.ramp_parse import _item as item_from_mapping
from courses.ramp_yaml import dump_yaml, load_yaml
from courses.specs import ItemSpec, RampFileError


def item_to_yaml(item: ItemSpec) -> str:
    return dump_yaml(item_to_mapping(item))


def item_from_yaml(text: str, *, file: str = "item") -> ItemSpec:
    """Parse an item block; errors are RampFileError with the line in `text`."""
    if len(text) > 200_000:
        raise RampFileError(file, 0, "longer than 200000 characters")
    data = load_yaml(text, file)
    if not isinstance(data, dict):
        raise RampFileError(file, 1, "should be a mapping of item fields (slug, type, prompt, …)")
    return item_from_mapping(data, file, 1)
