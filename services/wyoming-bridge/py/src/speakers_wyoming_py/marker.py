"""Marks the moment a transcript reached "Home Assistant" on the MQTT broker itself.

The broker hands one subscriber its messages in the order it accepted them, so a test subscribed to both this
marker and the Home Assistant plugin's state topics sees which reached the broker first, with no clocks.
"""

from __future__ import annotations

import paho.mqtt.client as mqtt


class Marker:
    def __init__(self, address: str, topic: str) -> None:
        host, _, port = address.rpartition(":")
        self._topic = topic
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="speakers-wyoming-test-client")
        self._client.connect(host, int(port))
        self._client.loop_start()

    def send(self, label: str) -> None:
        # QoS 1 and waiting for the PUBACK: the broker has taken it before the client goes on.
        self._client.publish(self._topic, label, qos=1).wait_for_publish(timeout=10)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
