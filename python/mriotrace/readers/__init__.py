"""Readers of published data: NBS input-output tables, CEADs inventories and the CEADs MRIO (China),
and the global MRIO databases EXIOBASE 3, GLORIA, Eora26, OECD ICIO, WIOD 2016 and FIGARO (native C++
readers, :mod:`mriotrace.global_readers`).

Every reader raises :class:`mriotrace.FileError` (missing, truncated or
unreadable file) or :class:`mriotrace.InputError` (wrong sheet, missing
columns, text in a numeric cell), naming the file, the sheet and the cell.
"""

from .ceads import CeadsInventory, read_ceads_inventory
from .ceads_mrio import CeadsMrio, read_ceads_mrio
from .nbs import NbsTable, read_nbs
from ..global_readers import (ExiobaseTable, GloriaSut, WiodTable, read_eora26, read_exiobase3, read_exiobase3_table,
                              read_figaro, read_gloria, read_gloria_labels, read_gloria_sut, read_oecd_icio,
                              read_wiod2016, read_wiod2016_table)

__all__ = ["read_nbs", "NbsTable", "read_ceads_inventory", "CeadsInventory", "read_ceads_mrio", "CeadsMrio",
           "read_exiobase3", "read_exiobase3_table", "ExiobaseTable", "read_oecd_icio",
           "read_gloria", "read_gloria_labels", "read_gloria_sut", "GloriaSut", "read_eora26", "read_figaro",
           "read_wiod2016", "read_wiod2016_table", "WiodTable"]
