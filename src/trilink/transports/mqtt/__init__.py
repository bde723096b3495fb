"""trilink's own MQTT topic schema, the hub's MQTT transport and the embedded broker.

Import the submodules directly (``trilink.transports.mqtt.schema`` has no kernel
dependency, so simulated devices can speak the schema without importing the hub).
"""
