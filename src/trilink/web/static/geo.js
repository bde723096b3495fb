/* Distances on the Earth and a flat projection for drawing a track without map tiles. */

const R = 6371008.8; // mean Earth radius, metres

/** Great-circle distance in metres between two (lat, lon) points in degrees (haversine). */
export function haversine(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

export function formatDistance(m) {
  if (!Number.isFinite(m)) return "—";
  if (m < 1000) return `${Math.round(m)} m`;
  if (m < 10000) return `${(m / 1000).toFixed(1)} km`;
  return `${Math.round(m / 1000)} km`;
}

/**
 * A projection of (lat, lon) points into a width × height box with padding: local
 * equirectangular (east-west shrunk by cos(latitude)), same scale on both axes, north up.
 * Returns {x(lat, lon), y(lat, lon), metresAcross}.
 */
export function fitProjection(points, width, height, pad = 24) {
  let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
  for (const [lat, lon] of points) {
    minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
    minLon = Math.min(minLon, lon); maxLon = Math.max(maxLon, lon);
  }
  const midLat = (minLat + maxLat) / 2;
  const k = Math.cos((midLat * Math.PI) / 180);
  const mPerDeg = 111320;
  // at least 1.2 km across, so a parked car is not one huge dot
  const spanX = Math.max((maxLon - minLon) * k * mPerDeg, 1200);
  const spanY = Math.max((maxLat - minLat) * mPerDeg, 1200);
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY); // px per metre
  const cx = (minLon + maxLon) / 2;
  const cy = midLat;
  return {
    x: (lat, lon) => width / 2 + (lon - cx) * k * mPerDeg * scale,
    y: (lat, lon) => height / 2 - (lat - cy) * mPerDeg * scale,
    metresAcross: width / scale,
  };
}
