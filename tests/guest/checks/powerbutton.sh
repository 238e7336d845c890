#!/bin/sh
# Waits for the ACPI power button the way systemd-logind or acpid do: finds
# the input devices named "Power Button" (the button module; evdev gives
# them /dev/input/eventN), blocks reading them, then powers off. Reports
# "VIREO-RESULT powerbutton=waiting" once it listens and "=pressed" after.
modprobe button 2>/dev/null
modprobe evdev 2>/dev/null
found=0
for dev in /sys/class/input/input*; do
    [ "$(cat "$dev/name" 2>/dev/null)" = "Power Button" ] || continue
    for ev in "$dev"/event*; do
        [ -e "$ev" ] || continue
        node=/dev/input/${ev##*/}
        if [ ! -c "$node" ]; then
            mkdir -p /dev/input
            mknod "$node" c "$(cut -d: -f1 "$ev/dev")" "$(cut -d: -f2 "$ev/dev")"
        fi
        (head -c 1 "$node" >/dev/null && echo "$node" >/tmp/pressed) &
        found=$((found + 1))
    done
done
if [ "$found" = 0 ]; then
    echo "VIREO-RESULT powerbutton=no-device"
    exit 1
fi
echo "VIREO-RESULT powerbutton=waiting devices=$found"
while [ ! -s /tmp/pressed ]; do sleep 0.1; done
echo "VIREO-RESULT powerbutton=pressed dev=$(cat /tmp/pressed)"
sync
poweroff -f
