"""Moist-air properties for the room and air-conditioner models (SI units, °C, Pa, kg/kg).

Saturation pressure uses the Magnus form with the Alduchov & Eskridge (1996)
coefficients; enthalpy and humidity ratio follow ASHRAE Fundamentals (ch. 1). Good to
a few tenths of a percent between -20 °C and 50 °C, which is all the simulator needs.
"""

from __future__ import annotations

import math

#: standard atmospheric pressure, Pa
P_ATM = 101_325.0
#: dry air density used for volume ↔ mass flow conversions, kg/m³
RHO_AIR = 1.2
#: specific heat of moist air, J/(kg·K)
CP_AIR = 1006.0
#: latent heat of vaporisation of water near room temperature, J/kg
H_FG = 2_450_000.0
_EPS = 0.621945  # ratio of the molar masses of water and dry air


def saturation_pressure(t: float) -> float:
    """Saturation vapour pressure over water at ``t`` °C, in Pa."""
    return 610.94 * math.exp(17.625 * t / (t + 243.04))


def humidity_ratio(t: float, rh: float, p: float = P_ATM) -> float:
    """Humidity ratio (kg water per kg dry air) of air at ``t`` °C and ``rh`` percent."""
    pw = max(0.0, min(100.0, rh)) / 100.0 * saturation_pressure(t)
    return _EPS * pw / (p - pw)


def saturation_ratio(t: float, p: float = P_ATM) -> float:
    """The humidity ratio of saturated air at ``t`` °C."""
    return humidity_ratio(t, 100.0, p)


def relative_humidity(t: float, w: float, p: float = P_ATM) -> float:
    """Relative humidity in percent (0-100) of air at ``t`` °C with humidity ratio ``w``."""
    pw = w * p / (_EPS + w)
    return max(0.0, min(100.0, 100.0 * pw / saturation_pressure(t)))


def enthalpy(t: float, w: float) -> float:
    """Specific enthalpy of moist air, J per kg of dry air."""
    return 1006.0 * t + w * (2_501_000.0 + 1860.0 * t)


def dew_point(w: float, p: float = P_ATM) -> float:
    """Dew-point temperature (°C) of air with humidity ratio ``w``."""
    pw = max(w * p / (_EPS + w), 1e-3)
    g = math.log(pw / 610.94)
    return 243.04 * g / (17.625 - g)


def saturation_temperature(h: float, p: float = P_ATM) -> float:
    """The temperature (°C) of saturated air whose enthalpy is ``h`` J/kg."""
    lo, hi = -60.0, 90.0
    for _ in range(60):  # bisection: enthalpy at saturation rises monotonically with t
        mid = 0.5 * (lo + hi)
        if enthalpy(mid, saturation_ratio(mid, p)) < h:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def wet_bulb(t: float, w: float, p: float = P_ATM) -> float:
    """Thermodynamic wet-bulb temperature (°C), by adiabatic saturation at constant enthalpy."""
    return min(t, saturation_temperature(enthalpy(t, w), p))
