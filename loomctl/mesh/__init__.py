"""The real mesh, replica by replica: who each replica's GUN process is linked to, who sees whose probe write."""
