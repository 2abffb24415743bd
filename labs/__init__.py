"""The five lab notebooks, shipped inside the package as ``gan_lab.labs`` so an installed
gan_lab can hand them out (``gan-lab labs DIR``). Written from ../solutions/ by
``python -m gan_lab release``; nothing here is Python."""
