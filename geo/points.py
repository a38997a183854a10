"""The one spatial reference of the database: WGS 84 longitude/latitude."""

from typing import Final

#: Every geometry column is stored in EPSG:4326, axis order (longitude, latitude).
SRID: Final = 4326
